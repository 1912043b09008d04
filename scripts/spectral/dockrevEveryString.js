import { everyString } from './input-limits.js';

export default everyString;
