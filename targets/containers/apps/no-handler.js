// No signal handler at all. Outside a container SIGTERM kills it at once (143); as a container's
// PID 1 the kernel drops SIGTERM (no handler installed), so it keeps serving until docker stop's
// grace runs out and SIGKILL ends it (137).
"use strict";
const http = require("http");
const { handler, listen } = require("./routes");

listen(http.createServer(handler({ draining: false })));
