from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "rapport.automation"
    label = "automation"
