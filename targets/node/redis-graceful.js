// A Node service using Redis that shuts down gracefully: stop accepting, wait until every in-flight
// request has been answered, QUIT Redis (and wait for its OK), exit 0 -- with a forced exit if that
// takes more than 10 s.
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
  // close() stops accepting and calls back once every connection has ended; idle keep-alive
  // connections are closed now, busy ones after their response.
  app.server.close(async () => {
    log("drained: every request answered");
    await app.redis.quit(); // the requests in flight needed Redis until now
    log("exit 0");
    process.exit(0);
  });
  app.server.closeIdleConnections();
}

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
app.start();
