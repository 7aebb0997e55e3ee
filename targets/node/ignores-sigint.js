// A Node service that catches SIGINT (PM2's kill signal) and ignores it: it keeps its listener and
// goes on serving new requests until PM2 kills it after kill_timeout.
"use strict";
const http = require("http");
const { port, handler } = require("./routes");

const server = http.createServer(handler({ draining: false }));
process.on("SIGINT", () => console.log("SIGINT received: ignored"));
server.listen(port(), "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
