// How a service can end its connection to a dependency (REDIS_URL, spoken to in raw RESP), one way per
// --close MODE. The HTTP side drains like any good service: on SIGTERM it stops accepting and exits 0
// once its clients are gone -- with keep-alive clients, when the load ends. What each mode does then:
//
//   never          opens the connection, never writes to it, never closes it: the kernel closes it
//                  at exit (no goodbye was ever sent)                                       -> FAIL
//   used-then-left one PING, then the same                                                  -> FAIL
//   reset          resets the connection itself (SO_LINGER 0: an RST, no FIN), then exits at once
//                                                                                            -> PASS
//   quit-exit      sends QUIT and exits at once, without waiting for the answer: a goodbye the
//                  dependency answers by closing                                             -> PASS
//   fork-inherit   starts a child that inherits the socket and outlives the service by 200 ms:
//                  still open (in the child) when the service exits                          -> FAIL
//   second-forgotten  QUITs its connection and waits for the close, but during the drain it opened
//                  a second one that it forgets                                              -> FAIL
"use strict";
const http = require("http");
const net = require("net");
const { spawn } = require("child_process");
const { port, handler } = require("./routes");

const modeAt = process.argv.indexOf("--close");
const mode = modeAt >= 0 ? process.argv[modeAt + 1] : "never";
const modes = ["never", "used-then-left", "reset", "quit-exit", "fork-inherit", "second-forgotten"];
if (!modes.includes(mode)) {
  console.error(`unknown --close ${mode}; one of ${modes.join(", ")}`);
  process.exit(2);
}

const url = new URL(process.env.REDIS_URL || "");
function connect() {
  const socket = net.connect(Number(url.port), url.hostname);
  socket.on("error", (err) => console.log(`dependency connection: ${err.message}`));
  return socket;
}
const dependency = connect();
if (mode !== "never") {
  dependency.write("PING\r\n");
  dependency.once("data", (reply) => console.log(`dependency answered ${reply.toString().trim()}`));
}

const state = { draining: false }; // never set: responses keep their connections alive
const server = http.createServer(handler(state));

function drained() {
  switch (mode) {
    case "reset":
      dependency.resetAndDestroy();
      return process.exit(0);
    case "quit-exit":
      dependency.write("QUIT\r\n");
      return process.exit(0);
    case "fork-inherit":
      spawn("sleep", ["0.2"], { stdio: ["ignore", "inherit", "inherit", dependency] });
      return process.exit(0);
    case "second-forgotten":
      dependency.once("close", () => process.exit(0));
      return dependency.end("QUIT\r\n");
    default:
      return process.exit(0); // never, used-then-left: the connection is left to the kernel
  }
}

process.on("SIGTERM", () => {
  console.log(`SIGTERM received: closing the listener (--close ${mode})`);
  if (mode === "second-forgotten") connect(); // opened during the drain, and forgotten
  server.close(() => {
    console.log("no client left");
    drained();
  });
});
server.listen(port(), "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
