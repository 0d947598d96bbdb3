// The bundle's entry (action/dist/index.js): everything else is in main.ts, which tests import.
import { run } from './main.ts';

void run();
