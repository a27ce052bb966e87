import type { Command } from './command.js';
import { drop } from './drop.js';
import { dump } from './dump.js';
import { current, history } from './history.js';
import { adopt, importCommand } from './import.js';
import { lint } from './lint.js';
import { newCommand } from './new.js';
import { repair } from './repair.js';
import { downgrade, redo, rollback } from './rollback.js';
import { stamp } from './stamp.js';
import { status } from './status.js';
import { create, sync, upgrade } from './sync.js';
import { verify } from './verify.js';
import { wait } from './wait.js';

/**
 * Every command, in the order --help lists them; the first is the default. A new command is one file
 * exporting a `Command` and one entry here.
 */
export const COMMANDS: readonly Command[] = [
  sync,
  status,
  current,
  upgrade,
  downgrade,
  stamp,
  create,
  drop,
  newCommand,
  verify,
  history,
  importCommand,
  adopt,
  rollback,
  redo,
  repair,
  dump,
  wait,
  lint,
];
