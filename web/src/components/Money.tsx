import { formatMoney } from '../money';

export function Money({ value, className }: { readonly value: string; readonly className?: string }) {
  return <span className={['money', className].filter(Boolean).join(' ')}>{formatMoney(value)}</span>;
}
