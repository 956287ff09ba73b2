'use strict';
// Jest gives every test file a copy of process.env. The log delivery thread shares the process's real
// environment (`SHARE_ENV`: `os.environ/NAME` references are read at send time), so the e2e specs must set
// variables in that one, as an operator would: this environment hands the tests the real object.
const NodeEnvironment = require('jest-environment-node').TestEnvironment;

class RealEnvEnvironment extends NodeEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global.process.env = process.env;
  }
}

module.exports = RealEnvEnvironment;
