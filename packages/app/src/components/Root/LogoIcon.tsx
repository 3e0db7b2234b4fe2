/** A key crossed out: the mark of NHI Offboarding (collapsed sidebar). */
export const LogoIcon = () => (
  <svg
    xmlns="http://www.w3.org/2000/svg"
    viewBox="0 0 32 32"
    width={28}
    height={28}
    role="img"
    aria-label="NHI Offboarding"
    style={{ flexShrink: 0 }}
  >
    <circle cx="12" cy="13" r="5" fill="none" stroke="#fff" strokeWidth="2.5" />
    <path
      d="M15.5 16.5 24 25M20.5 21.5l2.5-2.5M23 24l2.5-2.5"
      stroke="#fff"
      strokeWidth="2.5"
      strokeLinecap="round"
    />
    <path
      d="M6 26 26 6"
      stroke="#ff8a80"
      strokeWidth="2.5"
      strokeLinecap="round"
    />
  </svg>
);
