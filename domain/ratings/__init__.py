"""Platform evaluation by market entities (第三方评价): participants rate the platform's and the agency's service."""
