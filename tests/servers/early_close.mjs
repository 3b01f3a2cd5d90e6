// Answers early and closes, the way Node.js does: a server of the zoo for the suite's reading of early answers.
//
//   node tests/servers/early_close.mjs PORT
//
// - headers past 16 KiB: Node's own 431 (maxHeaderSize), written as the socket is destroyed;
// - no Authorization: 401, Connection: close, the body never read;
// - a body past 64 KiB (announced or chunked): 413, Connection: close, the body never read;
// - otherwise the body is read and answered 400 (the suite only needs an answer to judge).
import http from "node:http";

const port = Number(process.argv[2]);
const BODY_LIMIT = 64 * 1024;

function answer(res, status, title) {
  const body = JSON.stringify({ type: "about:blank", title, status, detail: title });
  res.writeHead(status, { "Content-Type": "application/problem+json", Connection: "close" });
  res.end(body);
}

const server = http.createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
  if (!req.headers.authorization) return answer(res, 401, "Unauthorized");
  const length = Number(req.headers["content-length"] ?? 0);
  if (length > BODY_LIMIT || req.headers["transfer-encoding"]) return answer(res, 413, "Content Too Large");
  req.resume();
  req.on("end", () => answer(res, 400, "Bad Request"));
});
server.listen(port, "127.0.0.1", () => console.log("ready"));
