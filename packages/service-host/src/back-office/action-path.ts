/**
 * An action's path segment: its name in the body's table (`register-arrival`) in lowerCamelCase
 * (`registerArrival`), as the Belgif REST guide spells paths.
 *
 * @example
 * ```ts
 * actionSegment('decide-work'); // 'decideWork'
 * ```
 */
export function actionSegment(action: string): string {
  return action.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}
