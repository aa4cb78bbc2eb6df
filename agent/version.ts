/** swarmdesk's version, from package.json (one source of truth for swarmd, swarmctl and the app). */
import packageJson from '../package.json' with { type: 'json' };

export const SWARMDESK_VERSION: string = packageJson.version;
