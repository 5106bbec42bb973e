// Captures the stack while this module's body runs (see load.cjs).
'use strict';
global.__captured = new Error('probe').stack;
