'use strict';
// Preloaded (`node --require`) into a peer gateway that would otherwise listen on every interface:
// a listen() without a host binds 127.0.0.1 instead, so the benchmark never exposes anything.
const net = require('node:net');

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0];
  if (first === undefined || typeof first === 'function') {
    args.splice(0, first === undefined ? 1 : 0, 0, '127.0.0.1');
  } else if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    if (first.path === undefined && first.host === undefined) args[0] = { ...first, host: '127.0.0.1' };
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, cb]): insert the host when the second argument is not one.
    if (typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};
