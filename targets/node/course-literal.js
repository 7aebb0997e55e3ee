// The shutdown handler as it is often written from a course snippet:
//   server.close(); await db.disconnect(); process.exit(0);
// server.close() only *starts* the drain (it stops accepting); it does not wait for the requests in
// flight. The exit that follows the quick db.disconnect() cuts them. Bundled to show that closing is
// not draining: draincheck fails it on dropped_inflight.
"use strict";
const http = require("http");
const { port, handler, fakeDatabase } = require("./routes");

const state = { draining: false };
const db = fakeDatabase();
const server = http.createServer(handler(state));

process.on("SIGTERM", async () => {
  console.log("SIGTERM received, shutting down...");
  state.draining = true;
  server.close();          // 1 and 2: stop accepting new, drain the active ones (but nobody waits)
  await db.disconnect();   // 3: close the DB
  process.exit(0);         // 4
});
server.listen(port(), "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
