// A Node service whose SIGTERM handler exits at once: every request in flight is cut.
"use strict";
const http = require("http");
const { port, handler } = require("./routes");

const server = http.createServer(handler({ draining: false }));
process.on("SIGTERM", () => {
  console.log("SIGTERM received, exiting");
  process.exit(0);
});
server.listen(port(), "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
