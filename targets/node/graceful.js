// A Node service that shuts down gracefully: stop accepting, wait until every in-flight request has
// been answered, close the database, exit 0 -- with a forced exit if that takes more than 10 s.
"use strict";
const http = require("http");
const { port, handler, fakeDatabase } = require("./routes");

const state = { draining: false };
const db = fakeDatabase();
const server = http.createServer(handler(state));

async function shutdown(signal) {
  if (state.draining) return;
  state.draining = true;
  console.log(`${signal} received, shutting down...`);
  setTimeout(() => { console.error("drain took too long: forced exit"); process.exit(1); }, 10000).unref();
  // close() stops accepting and calls back once every connection has ended; idle keep-alive
  // connections are closed now, busy ones after their response (the server then answers with
  // Connection: close).
  server.close(async () => {
    await db.disconnect();
    console.log("shutdown complete");
    process.exit(0);
  });
  server.closeIdleConnections();
}

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
server.listen(port(), "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
