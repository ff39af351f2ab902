from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "rapport.pipeline"
    label = "pipeline"
