// ESM entry of mayfly-testing: the implementation is index.cjs (plain CommonJS, so jest's
// CommonJS runtime can require it too); no build step.
import cjs from './index.cjs';

export const { startMayfly, findMayfly, Account, Mayfly, PERMISSIONS } = cjs;
export default startMayfly;
