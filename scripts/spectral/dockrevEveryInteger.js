import { everyInteger } from './input-limits.js';

export default everyInteger;
