// Express as most hello-world apps are written: no signal handler, so SIGTERM kills the process.
const express = require("express");
const app = express();
app.get("/", (req, res) => res.send("ok\n"));
app.get("/slow", (req, res) => setTimeout(() => res.send("ok\n"), 800));
app.listen(Number(process.argv[2]), "127.0.0.1");
