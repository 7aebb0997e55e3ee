// A Node service with no signal handler at all: SIGINT or SIGTERM kills it at once, and every
// request in flight is cut (what PM2's reload does to such an app).
"use strict";
const http = require("http");
const { port, handler } = require("./routes");

const server = http.createServer(handler({ draining: false }));
server.listen(port(), "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
