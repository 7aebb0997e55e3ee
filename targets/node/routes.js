// The routes every Node sample target serves, and its port. No dependencies beyond Node itself.
"use strict";

function port() {
  const i = process.argv.indexOf("--port");
  const p = Number(i >= 0 ? process.argv[i + 1] : process.env.PORT);
  if (!Number.isInteger(p) || p <= 0) {
    console.error("usage: node <target>.js --port N (or PORT=N)");
    process.exit(2);
  }
  return p;
}

// state.draining: once set, /healthz answers 503 so a load balancer stops routing here.
function handler(state) {
  return (req, res) => {
    const url = new URL(req.url, "http://localhost");
    const num = (name, fallback) => Number(url.searchParams.get(name) ?? fallback);
    req.resume(); // read and ignore any request body
    if (state.draining) res.setHeader("Connection", "close"); // finish this one, then let the socket go
    switch (url.pathname) {
      case "/healthz":
        res.writeHead(state.draining ? 503 : 200, { "Content-Type": "text/plain" });
        return res.end(state.draining ? "draining\n" : "ok\n");
      case "/work":
        return setTimeout(() => {
          // Began before the drain, ends during it: this is the connection's last response too.
          if (state.draining) res.setHeader("Connection", "close");
          res.end("done\n");
        }, num("ms", 100));
      case "/stream": {
        const bytes = num("bytes", 10000), ms = num("ms", 1000);
        const step = Math.max(1, Math.floor(bytes / 10));
        res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": bytes });
        let left = bytes;
        const tick = () => {
          const n = Math.min(step, left);
          left -= n;
          if (left > 0) { res.write("x".repeat(n)); setTimeout(tick, ms / 10); } else res.end("x".repeat(n));
        };
        return setTimeout(tick, ms / 10);
      }
      case "/":
        return res.end("hello\n");
      default:
        res.writeHead(404);
        return res.end("not found\n");
    }
  };
}

// A stand-in for a database client: connecting and disconnecting take a little time.
function fakeDatabase() {
  return {
    async disconnect() {
      await new Promise((resolve) => setTimeout(resolve, 20));
      console.log("db disconnected");
    },
  };
}

module.exports = { port, handler, fakeDatabase };
