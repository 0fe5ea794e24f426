import { VERSION } from "../../src/version.js";

const HELP = `Usage: hiveguard <command>

Commands:
  start          run the HiveGuard server (configuration from the environment and .env)
  --version      print the version
  --help         show this help
`;

const [command] = process.argv.slice(2);
switch (command) {
  case "start":
    await import("../../src/main.js");
    break;
  case "--version":
  case "-v":
    process.stdout.write(`${VERSION}\n`);
    break;
  case undefined:
  case "--help":
  case "-h":
  case "help":
    process.stdout.write(HELP);
    break;
  default:
    process.stderr.write(`hiveguard: unknown command "${command}"\n\n${HELP}`);
    process.exitCode = 2;
}
