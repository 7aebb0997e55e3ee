// redis-graceful.js with one bug: the shutdown drains the HTTP requests but never closes the Redis
// connection; process.exit() leaves it to the kernel, with no QUIT. draincheck must catch that
// (dependency_closed_before_exit).
"use strict";
const { createApp, log } = require("./redis-app");

const app = createApp();

async function shutdown(signal) {
  if (app.state.draining) return;
  app.state.draining = true; // /healthz now answers 503; responses carry Connection: close
  log(`${signal} received: closing the listener, draining requests in flight`);
  setTimeout(() => {
    log("drain took too long: forced exit 1");
    process.exit(1);
  }, 10000).unref();
  app.server.close(() => {
    log("drained: every request answered");
    log("exit 0 (the Redis connection is left open)");
    process.exit(0);
  });
  app.server.closeIdleConnections();
}

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
app.start();
