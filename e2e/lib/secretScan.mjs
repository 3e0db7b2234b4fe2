/*
 * Searches bytes (logs, responses, database files) for known secrets, in
 * the forms a leak would take: as is, base64, base64url, URL-encoded and
 * JSON-escaped.
 */

/** The forms of one secret worth looking for. */
export function secretForms(secret) {
  const forms = {
    raw: secret,
    base64: Buffer.from(secret).toString('base64').replace(/=+$/, ''),
    base64url: Buffer.from(secret).toString('base64url'),
    'url-encoded': encodeURIComponent(secret),
    'json-escaped': JSON.stringify(secret).slice(1, -1),
  };
  return forms;
}

/**
 * Every place where a form of a secret occurs: `[{ place, secret, form }]`.
 * Database files are searched as raw bytes (SQLite keeps text as UTF-8).
 */
export function scanForSecrets(places, secrets) {
  const findings = [];
  for (const { name, bytes } of places) {
    for (const [secretName, value] of Object.entries(secrets)) {
      const seen = new Set();
      for (const [form, encoded] of Object.entries(secretForms(value))) {
        if (seen.has(encoded)) continue;
        seen.add(encoded);
        const at = bytes.indexOf(Buffer.from(encoded));
        if (at >= 0) {
          findings.push({ place: name, secret: secretName, form, at });
        }
      }
    }
  }
  return findings;
}
