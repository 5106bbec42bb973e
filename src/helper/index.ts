/** The helper's API for the collector and tests: start it, and turn its capture into files. */
export * from './launch';
export * from './pcapng';
export * from './install';
export * from './setupFiles';
export { SETUP_CLI, SETUP_COMMAND_TITLE, SETUP_HINT } from './setupHint';
export {
  environmentRefusal,
  KEPT_VARIABLES,
  ROOT_PATH,
  rootForAnotherUser,
  safeEnvironment,
  startupVariables,
  STARTUP_VARIABLES,
  systemProgram,
} from './rootEnv';
export { notRootOnly } from './rootOwned';
export { checkTarget, invokingUser } from './authority';
export { addrKey, frameKey, frameTuple, ipBytes, ipv6String, TracedCapture } from './pcap';
