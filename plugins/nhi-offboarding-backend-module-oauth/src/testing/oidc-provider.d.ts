// oidc-provider 9 ships no type declarations (@types/oidc-provider covers v8).
declare module 'oidc-provider';
