// `npm run bench -- <name>`: runs bench/<name>.ts. Each benchmark prints its own figures and ratios.
const name = process.argv[2];
if (!name || !/^[a-z0-9-]+$/.test(name)) {
  console.error("Usage: npm run bench -- <name>   (e.g. tracking)");
  process.exit(2);
}
await import(`./${name}.js`);
