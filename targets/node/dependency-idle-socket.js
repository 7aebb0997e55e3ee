// A broken shutdown that timing alone misjudges: the service opens one TCP connection to its
// dependency (REDIS_URL), never writes to it and never closes it. On SIGTERM it stops accepting and
// exits 0 once its HTTP connections are gone -- with keep-alive clients that is when the load ends,
// moments before the harness stops the dependency. The kernel closes the socket at exit: no goodbye
// was ever sent, so dependency_closed_before_exit must FAIL.
// With --ping it uses the connection once (PING, +PONG) first, and still never closes it: then only
// the order of events tells, as the dependency's close comes from the harness stopping it.
"use strict";
const http = require("http");
const net = require("net");
const { port, handler } = require("./routes");

const url = new URL(process.env.REDIS_URL || "");
const idle = net.connect(Number(url.port), url.hostname);
idle.on("error", (err) => console.log(`dependency connection: ${err.message}`));
if (process.argv.includes("--ping")) {
  idle.write("PING\r\n");
  idle.once("data", (reply) => console.log(`dependency answered ${reply.toString().trim()}`));
}

const state = { draining: false }; // never set: responses keep their connections alive
const server = http.createServer(handler(state));

process.on("SIGTERM", () => {
  console.log("SIGTERM received: closing the listener, exiting once the clients are gone");
  server.close(() => {
    console.log("no client left: exit 0 (the dependency connection is left to the kernel)");
    process.exit(0);
  });
});
server.listen(port(), "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
