/** The part of the `qrcode` package (which ships no types) that the console uses. */
declare module 'qrcode' {
  export interface SvgOptions {
    readonly type: 'svg';
    readonly errorCorrectionLevel?: 'L' | 'M' | 'Q' | 'H';
    readonly margin?: number;
    readonly color?: { readonly dark?: string; readonly light?: string };
  }
  // biome-ignore lint/suspicious/noShadowRestrictedNames: the package's own name for its SVG output
  export function toString(text: string, options: SvgOptions): Promise<string>;
}
