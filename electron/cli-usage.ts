/**
 * The CLI's usage errors in the user's own words: what they typed, what is wrong with it, and the
 * fix, on one line. Node's parseArgs messages never reach the user as they are.
 */
import { MAX_REPLICAS } from './contract.js';
import { NamedError } from '../backend/named-error.js';

/** A usage mistake: exit code 2 and a hint. */
export class UsageError extends NamedError {}

/** What parseArgs' errors carry besides their message. */
interface ParseArgsError extends Error {
  code?: string;
}

/**
 * Turns a parseArgs error into a {@link UsageError} naming the user's own words. `argv` is the
 * command line as typed, for the command's name in the hint.
 */
export function usageErrorOf(err: unknown, argv: readonly string[]): UsageError {
  const error = err as ParseArgsError;
  const command = argv.find((a) => !a.startsWith('-')) ?? '';
  const help = `scalelab help${command && command !== 'help' ? ` (usage of "${command}")` : ''}`;
  const option = /'(-[^' ]+)/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) {
    if (/^-\d/.test(option)) {
      const service = command === 'scale' ? argv[argv.indexOf('scale') + 1] : undefined;
      if (service === 'api' || service === 'worker')
        return new UsageError(
          `the ${service} replica count must be a whole number from ${service === 'api' ? 1 : 0} to ${MAX_REPLICAS} (got "${option}"), e.g. scalelab scale ${service} 4`,
        );
      return new UsageError(`"${option}": negative numbers are not accepted here (counts, rates and durations are 0 or more); see ${help}`);
    }
    return new UsageError(`unknown option "${option}"${command ? ` for "${command}"` : ''}; see ${help}`);
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    if (/does not take an argument/.test(error.message))
      return new UsageError(`"${option}" is a switch and takes no value (write "${option}" alone); see ${help}`);
    const next = argv[argv.indexOf(option) + 1];
    if (next !== undefined && /^-\d/.test(next))
      return new UsageError(
        `"${option} ${next}": negative numbers are not accepted here (counts, rates and durations are 0 or more); see ${help}`,
      );
    return new UsageError(`"${option}" needs a value after it (e.g. "${option} 3"); see ${help}`);
  }
  return new UsageError(`could not read the command line "${argv.join(' ')}"; see ${help}`);
}

/**
 * A whole number from `min` to `max`, or undefined when absent. `what` names the value as the user
 * typed it: an option (`--api`) or a positional's role (`the replica count`); `example` shows a
 * correct command.
 */
export function wholeNumber(what: string, value: string | undefined, min: number, max: number, example?: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    const got = value === '' ? 'nothing' : `"${value}"`;
    throw new UsageError(`${what} must be a whole number from ${min} to ${max} (got ${got})${example ? `, e.g. ${example}` : ''}`);
  }
  return n;
}

/** `text` wrapped at `width` columns, every line indented by `indent` spaces (for the help text). */
export function wrapIndented(text: string, indent: number, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => `${' '.repeat(indent)}${l}`).join('\n');
}
