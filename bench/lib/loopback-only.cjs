// Preloaded (node --require) into the peer gateway, whose start script offers no host option: binds every
// TCP server it starts to 127.0.0.1, so the benchmark stays on loopback.
'use strict';
const net = require('node:net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function patchedListen(...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (args[1] === undefined || typeof args[1] === 'function' || args[1] === '0.0.0.0' || args[1] === '::') {
      const rest = typeof args[1] === 'function' ? args.slice(1) : args.slice(2);
      return listen.call(this, Number(args[0]), '127.0.0.1', ...rest);
    }
  } else if (typeof args[0] === 'object' && args[0] !== null && args[0].port !== undefined && args[0].path === undefined) {
    return listen.call(this, { ...args[0], host: '127.0.0.1' }, ...args.slice(1));
  }
  return listen.apply(this, args);
};
