// Artifact names end up as file names on other people's disks (ZIP entries, downloads): keep them to
// one plain file name. Applied at upload, and again when a ZIP is built (rows stored before this rule).

// Controls and the characters Windows refuses in a file name.
const UNSAFE = /[\p{Cc}<>:"|?*]/gu;

/** One plain file name from what a client sent: no folders (either slash), no drive, no controls. */
export function sanitizeArtifactName(given: string): string {
  const lastSegment = given.replace(/\\/g, "/").split("/").pop() ?? "";
  return lastSegment
    .replace(/^[A-Za-z]:/, "")
    .replace(UNSAFE, "_")
    .trim()
    .replace(/^\.+$/, "");
}

/** ZIP entry names for stored artifacts: sanitized, never empty, unique within the archive. */
export function zipEntryNames(names: string[]): string[] {
  const used = new Set<string>();
  return names.map((name, index) => {
    const base = sanitizeArtifactName(name) || `artifact-${index + 1}`;
    let candidate = base;
    for (let n = 2; used.has(candidate); n++) {
      const dot = base.lastIndexOf(".");
      candidate = dot > 0 ? `${base.slice(0, dot)} (${n})${base.slice(dot)}` : `${base} (${n})`;
    }
    used.add(candidate);
    return candidate;
  });
}
