import type { QueryClient } from '@tanstack/react-query';

const moneyKeys = [['account'], ['accounts'], ['history']] as const;

/**
 * After money moved (or an account changed): balances on screen now are fetched again, and those
 * cached for screens not shown are dropped, so that opening one never shows the old balance
 * while the new one is on its way.
 */
export function forgetBalances(queryClient: QueryClient): void {
  for (const queryKey of moneyKeys) {
    queryClient.removeQueries({ queryKey, type: 'inactive' });
    void queryClient.invalidateQueries({ queryKey });
  }
}
