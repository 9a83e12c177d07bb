import { createRequire, Module } from 'node:module';
import type Dockerode from 'dockerode';

const require = createRequire(import.meta.url);

/**
 * dockerode, without loading its BuildKit session support (@grpc/grpc-js, @grpc/proto-loader,
 * about 5 MB of resident memory) when the control plane starts: dockerode requires it eagerly,
 * but only `docker.buildImage` with a BuildKit session ever calls it, which paas does not. Its
 * module is put in the require cache as a stand-in that loads the real one on a first call.
 */
function loadDockerode(): typeof Dockerode {
  const sessionPath = require.resolve('dockerode/lib/session.js');
  if (require.cache[sessionPath] === undefined) {
    const standIn = new Module(sessionPath);
    standIn.filename = sessionPath;
    standIn.loaded = true;
    standIn.exports = function withSession(this: unknown, ...args: unknown[]): unknown {
      delete require.cache[sessionPath];
      const real = require(sessionPath) as (...a: unknown[]) => unknown;
      return real.apply(this, args);
    };
    require.cache[sessionPath] = standIn;
  }
  return require('dockerode') as typeof Dockerode;
}

export const DockerClient = loadDockerode();
