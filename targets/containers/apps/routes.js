// The routes every containerized Node test app serves, and its port. No dependencies beyond Node.
//   GET /          200 at once
//   GET /healthz   200, or 503 once the app is draining
//   GET /work?ms=N 200 after N ms (default 100), without blocking anything else
"use strict";

// The port: --port N on the command line, else the environment variable PORT (the images set
// PORT=8080; a scenario passes its own with `docker run --env PORT=...`).
function port() {
  const i = process.argv.indexOf("--port");
  const p = Number(i >= 0 ? process.argv[i + 1] : process.env.PORT);
  if (!Number.isInteger(p) || p <= 0) {
    console.error("usage: node <app>.js --port N (or PORT=N)");
    process.exit(2);
  }
  return p;
}

// state.draining: once set, /healthz answers 503 and every answer carries Connection: close.
function handler(state) {
  return (req, res) => {
    const url = new URL(req.url, "http://localhost");
    req.resume(); // read and ignore any request body
    if (state.draining) res.setHeader("Connection", "close");
    switch (url.pathname) {
      case "/":
        return res.end("hello\n");
      case "/healthz":
        res.writeHead(state.draining ? 503 : 200, { "Content-Type": "text/plain" });
        return res.end(state.draining ? "draining\n" : "ok\n");
      case "/work":
        return setTimeout(() => res.end("done\n"), Number(url.searchParams.get("ms") ?? 100));
      default:
        res.writeHead(404);
        return res.end("not found\n");
    }
  };
}

// Listens on loopback only (the containers run with --network host).
function listen(server) {
  server.listen(port(), "127.0.0.1", () =>
    console.log(`pid ${process.pid} listening on ${server.address().port}`));
}

module.exports = { handler, listen };
