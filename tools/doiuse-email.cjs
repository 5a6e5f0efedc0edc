// Lint an email's HTML against the caniemail data for the clients Spark's readers use.
// Usage: NODE_PATH=.cache/npm/node_modules node tools/doiuse-email.cjs FILE.html
// Prints one JSON object {errors, warnings}; exit 0 always (the caller judges).
const fs = require("fs");
const { doIUseEmail } = require("@jsx-email/doiuse-email");
const clients = ["gmail.*", "outlook.windows", "apple-mail.*"];
const html = fs.readFileSync(process.argv[2], "utf8");
const result = doIUseEmail(html, { emailClients: clients });
process.stdout.write(JSON.stringify({ errors: result.errors || [], warnings: result.warnings || [] }, null, 1) + "\n");
