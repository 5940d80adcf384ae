//! The CONFIG command: GET, SET, RESETSTAT, REWRITE, HELP, applying each change's side effects.
