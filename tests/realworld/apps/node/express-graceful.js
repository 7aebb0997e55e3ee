// Express with the shutdown its guides teach: on SIGTERM, server.close() (no new connections, idle
// keep-alive ones closed), and exit 0 once the requests in flight are done.
const express = require("express");
const app = express();
app.get("/", (req, res) => res.send("ok\n"));
app.get("/slow", (req, res) => setTimeout(() => res.send("ok\n"), 800));
const server = app.listen(Number(process.argv[2]), "127.0.0.1");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
