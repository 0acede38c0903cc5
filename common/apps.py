from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Cross-cutting helpers every app may use: form errors, the scoped API base, the access
    policy registry, the state-machine helper, template filters. It imports no app."""

    name = "common"
