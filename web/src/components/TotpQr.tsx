import { useEffect, useState } from 'react';

/**
 * The enrolment's otpauth:// URI as a QR code for the authenticator app to scan: an SVG drawn by
 * the `qrcode` package, shown as a data: image (the CSP allows `img-src data:`; nothing inline
 * runs or styles). The package loads only here, when an enrolment starts.
 */
export function TotpQr({ uri }: { readonly uri: string }) {
  const [drawn, setDrawn] = useState<{ uri: string; src: string } | undefined>(undefined);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let current = true;
    setFailed(false);
    import('qrcode')
      .then((qrcode) =>
        qrcode.toString(uri, {
          type: 'svg',
          errorCorrectionLevel: 'M',
          margin: 4,
          // Dark on light in either colour scheme: what scanners read best.
          color: { dark: '#000000', light: '#ffffff' },
        }),
      )
      .then((svg) => {
        if (current) setDrawn({ uri, src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}` });
      })
      .catch(() => {
        if (current) setFailed(true);
      });
    return () => {
      current = false;
    };
  }, [uri]);
  if (failed) return <p className="qr-missing">The QR code could not be drawn: type the secret instead.</p>;
  if (drawn?.uri !== uri) return <p className="qr-missing">Drawing the QR code…</p>;
  return (
    <img
      className="qr"
      src={drawn.src}
      alt="QR code of your new authenticator secret, for your authenticator app to scan"
    />
  );
}
