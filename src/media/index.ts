// Public surface of the media layer.
export * from './port.ts';
export { createBuiltinMediaServer, type BuiltinMediaServer, type BuiltinMediaServerOptions } from './builtin.ts';
export { createFreeswitchMediaServer, type FreeswitchMediaServerOptions } from './freeswitch.ts';
export { loadPromptLibrary, type PromptLibrary, type PromptClip } from './prompts.ts';
export { WavFormatError } from './wav.ts';
export type { MediaLogger } from './logger.ts';
export { builtinFaxUnavailable, type BuiltinFaxOptions } from './fax/receiver.ts';
