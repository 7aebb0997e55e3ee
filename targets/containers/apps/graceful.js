// Shuts down gracefully on SIGTERM (or SIGINT): stops accepting, lets every request in flight
// finish, exits 0 -- with a forced exit 1 if that takes more than 10 s. It handles SIGTERM only
// if SIGTERM reaches it: the node-shell-form, node-stopsignal-quit and node-npm-start images run
// this same file in ways where it never does.
"use strict";
const http = require("http");
const { handler, listen } = require("./routes");

const state = { draining: false };
const server = http.createServer(handler(state));

function shutdown(signal) {
  if (state.draining) return;
  state.draining = true;
  console.log(`${signal} received, draining`);
  setTimeout(() => { console.error("drain took too long: forced exit"); process.exit(1); }, 10000).unref();
  // close() stops accepting and calls back once every connection has ended; idle keep-alive
  // connections are closed now, busy ones after their response.
  server.close(() => {
    console.log("drained, exiting 0");
    process.exit(0);
  });
  server.closeIdleConnections();
}

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
listen(server);
