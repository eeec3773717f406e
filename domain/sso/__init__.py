"""Single sign-on (一次登录、全网办理): PalmTrade as the OpenID Connect provider of the platform's business systems."""
