import { everyArray } from './input-limits.js';

export default everyArray;
