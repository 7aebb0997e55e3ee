// What the Redis-backed Node targets share: a client from the `redis` package and an HTTP server whose
// routes use it. redis-graceful.js and redis-forgets-close.js differ only in their SIGTERM handler.
//
//   GET /count     INCR draincheck:count -> 200 with the new value, 503 "redis unavailable"
//   GET /healthz   PING -> 200; 503 when Redis is unreachable or the service is shutting down
//   /work?ms=N, /stream, /   as in routes.js
//
// REDIS_URL (redis://HOST:PORT) is required; REDIS_TIMEOUT_MS (default 500) bounds each command.
"use strict";
const http = require("http");
const { createClient } = require("redis");
const { port, handler } = require("./routes");

function log(line) {
  console.log(line);
}

// A client that fails fast, so a request answers 503 at once instead of hanging while Redis is away:
// - disableOfflineQueue: a command issued while disconnected is rejected, not held for the reconnect;
// - reconnects start quickly and back off to 500 ms;
// - each command has a deadline. A command past it may have lost its reply, and replies are matched
//   to commands in order, so the connection is dropped and made again rather than trusted.
function fastFailingRedis(url, timeoutMs) {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 1000, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 500) },
  });
  let up = false;            // connected and ready: log each change once, not every retry
  let outageLogged = false;
  let closing = false;
  client.on("ready", () => {
    up = true;
    outageLogged = false;
    log(`redis: connected to ${url}`);
  });
  // Without an 'error' listener the client's errors would crash the process.
  client.on("error", (err) => {
    if (up) log(`redis: connection lost (${err.message})`);
    else if (!outageLogged) log(`redis: cannot connect to ${url} (${err.message}); retrying`);
    up = false;
    outageLogged = true;
  });

  function connect() {
    client.connect().catch((err) => log(`redis: gave up connecting (${err.message})`));
  }

  let resetting = false;
  async function reconnect(why) {
    // Only a ready connection can be stuck; while not ready the client is already reconnecting.
    if (closing || resetting || !client.isReady) return;
    resetting = true;
    up = false;
    outageLogged = true;
    log(`redis: connection lost (${why}); reconnecting`);
    await client.disconnect().catch(() => {});
    resetting = false;
    if (!closing) connect();
  }

  // Runs `command(client)` within the deadline.
  async function run(command) {
    let timer;
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout after ${timeoutMs}ms`)), timeoutMs);
    });
    try {
      return await Promise.race([command(client), deadline]);
    } catch (err) {
      if (err.message.startsWith("timeout after")) reconnect(err.message);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  // QUIT, wait for its OK, close the socket. With no connection up there is nobody to say it to: just
  // stop the reconnect loop. A QUIT that gets no answer in time is cut short the same way.
  async function quit() {
    closing = true;
    if (!client.isReady) {
      if (client.isOpen) await client.disconnect();
      log("redis: closed (no connection was open)");
      return;
    }
    try {
      await run((c) => c.quit());
      log("redis: closed (QUIT)");
    } catch (err) {
      if (client.isOpen) await client.disconnect().catch(() => {});
      log(`redis: closed (QUIT failed: ${err.message})`);
    }
  }

  return { connect, run, quit };
}

// The routes: /count and /healthz use Redis, the rest are routes.js's.
function redisHandler(state, redis) {
  const others = handler(state);
  const answer = (res, status, body) => {
    res.writeHead(status, { "Content-Type": "text/plain" });
    res.end(body);
  };
  return (req, res) => {
    const path = new URL(req.url, "http://localhost").pathname;
    if (path !== "/count" && path !== "/healthz") return others(req, res);
    req.resume();
    if (state.draining) res.setHeader("Connection", "close"); // finish this one, then let the socket go
    if (path === "/healthz" && state.draining) return answer(res, 503, "draining\n");
    const command = path === "/count" ? (c) => c.incr("draincheck:count") : (c) => c.ping();
    redis.run(command).then(
      (reply) => answer(res, 200, path === "/count" ? `${reply}\n` : "ok\n"),
      () => answer(res, 503, "redis unavailable\n"),
    );
  };
}

// The server (not yet listening) and its Redis client (not yet connected); start() does both.
function createApp() {
  const url = process.env.REDIS_URL;
  if (!url) {
    console.error("usage: REDIS_URL=redis://HOST:PORT node <target>.js --port N (or PORT=N)");
    process.exit(2);
  }
  const listenPort = port();
  const state = { draining: false };
  const redis = fastFailingRedis(url, Number(process.env.REDIS_TIMEOUT_MS ?? 500));
  const server = http.createServer(redisHandler(state, redis));
  function start() {
    server.listen(listenPort, "127.0.0.1", () => log(`listening on ${server.address().port}`));
    redis.connect();
  }
  return { state, redis, server, start };
}

module.exports = { createApp, log };
