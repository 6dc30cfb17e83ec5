// The prompts' UI (dist/cairn-prompts.<hash>.js): the core asks for it the first time a prompt is to
// show (src/prompts/load.ts), and it hands its showPrompt over on the stub.
import { showPrompt } from '../prompts/ui.js';
import type { Stub } from './stub.js';

(window as { cairn?: Stub }).cairn?._receivePrompts?.(showPrompt);
