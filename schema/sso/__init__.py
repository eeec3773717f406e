"""Single sign-on: operators register client systems, users see and withdraw their consents."""
