// A module the tests import, so that babel-jest has imports to rewrite.
export const answer = (status) => status;
