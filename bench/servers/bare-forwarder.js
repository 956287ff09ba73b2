'use strict';
// The yardstick: the thinnest NestJS 11 + express forwarder, the framework's ceiling for this kind of route.
// One controller, the body parsed by Nest's default JSON body parser, forwarded with undici.request through a
// keep-alive Agent, and the upstream JSON returned (parsed and re-serialised by Nest). No auth, no routing, no
// logging. It exists only to be measured next to the gateway; it is not part of the product.
// Plain JavaScript with the decorators applied by hand, so the benchmark needs no compile step.
// Two more yardstick routes in the same process (scenarios 9 and 10):
// - POST /v1/static/chat/completions: the same controller style (@Body() parsed), no upstream call, a constant
//   object shaped like the mock upstream's answer (serialised by Nest): the bare NestJS route a cache hit is
//   measured against (issue 6).
// - POST /v1/intercepted/chat/completions: the forwarding route plus one no-op interceptor (returns
//   next.handle()): what Nest's interceptor pipeline alone costs per request.
// Env: UPSTREAM (base URL, e.g. http://127.0.0.1:18080), PORT (0 = any). Prints `READY <port>`.
require('reflect-metadata');
const { NestFactory } = require('@nestjs/core');
const { Module, Controller, Post, Body, HttpCode, Injectable, UseInterceptors } = require('@nestjs/common');
const { Agent, request } = require('undici');

const upstream = `${process.env.UPSTREAM}/v1/chat/completions`;
const dispatcher = new Agent({ connections: 256, keepAliveTimeout: 60_000 });
const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer sk-bench-upstream' };
// The mock upstream's chat completion, so the answer is as big as a cache hit's.
const { CHAT_COMPLETION: STATIC_ANSWER } = require('./chat-completion');

class NoopInterceptor {
  intercept(ctx, next) {
    return next.handle();
  }
}
Injectable()(NoopInterceptor);

class ForwardController {
  async chat(body) {
    const res = await request(upstream, { method: 'POST', headers: HEADERS, body: JSON.stringify(body), dispatcher });
    return res.body.json();
  }

  staticChat(body) {
    return STATIC_ANSWER;
  }

  async interceptedChat(body) {
    const res = await request(upstream, { method: 'POST', headers: HEADERS, body: JSON.stringify(body), dispatcher });
    return res.body.json();
  }
}
const method = Object.getOwnPropertyDescriptor(ForwardController.prototype, 'chat');
Post('v1/chat/completions')(ForwardController.prototype, 'chat', method);
HttpCode(200)(ForwardController.prototype, 'chat', method);
Body()(ForwardController.prototype, 'chat', 0);
const staticMethod = Object.getOwnPropertyDescriptor(ForwardController.prototype, 'staticChat');
Post('v1/static/chat/completions')(ForwardController.prototype, 'staticChat', staticMethod);
HttpCode(200)(ForwardController.prototype, 'staticChat', staticMethod);
Body()(ForwardController.prototype, 'staticChat', 0);
const interceptedMethod = Object.getOwnPropertyDescriptor(ForwardController.prototype, 'interceptedChat');
Post('v1/intercepted/chat/completions')(ForwardController.prototype, 'interceptedChat', interceptedMethod);
HttpCode(200)(ForwardController.prototype, 'interceptedChat', interceptedMethod);
UseInterceptors(NoopInterceptor)(ForwardController.prototype, 'interceptedChat', interceptedMethod);
Body()(ForwardController.prototype, 'interceptedChat', 0);
Controller()(ForwardController);

class ForwarderModule {}
Module({ controllers: [ForwardController] })(ForwarderModule);

async function main() {
  const app = await NestFactory.create(ForwarderModule, { logger: ['error', 'warn'] });
  const server = app.getHttpServer();
  server.keepAliveTimeout = 60_000;
  await app.listen(Number(process.env.PORT || 0), '127.0.0.1');
  process.stdout.write(`READY ${server.address().port}\n`);
}
process.on('SIGTERM', () => process.exit(0));
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
