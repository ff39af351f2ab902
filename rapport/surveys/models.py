from django.conf import settings
from django.db import models
from django.utils import timezone

DEFAULT_COOLDOWN_DAYS = 90


class SurveyMoment(models.TextChoices):
    """When a survey is meant to go out; automation triggers pick a survey by it, people send any by hand."""

    AFTER_APPLYING = "after_applying", "After applying"
    AFTER_INTERVIEW = "after_interview", "After an interview"
    AFTER_DECISION = "after_decision", "After a decision"


class QuestionKind(models.TextChoices):
    CSAT = "csat", "Satisfaction (1–5)"
    NPS = "nps", "Recommendation (0–10)"
    TEXT = "text", "Free text"
    CHOICE = "choice", "Single choice"


class Survey(models.Model):
    name = models.CharField(max_length=120)
    intro = models.TextField(blank=True)
    moment = models.CharField(max_length=20, choices=SurveyMoment.choices, default=SurveyMoment.AFTER_INTERVIEW)
    # Anonymous: the answers are stored without the person, application or invitation they came from.
    anonymous = models.BooleanField(default=False)
    # Nobody gets a survey when they got any survey within this many days of it.
    cooldown_days = models.PositiveSmallIntegerField(default=DEFAULT_COOLDOWN_DAYS)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class SurveyQuestion(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=QuestionKind.choices)
    text = models.CharField(max_length=300)
    required = models.BooleanField(default=True)
    choices = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class SurveyInvitation(models.Model):
    """One person's link to one survey. Always attributed: the cool-down and the link itself need the person."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    candidate = models.ForeignKey("candidates.Candidate", on_delete=models.CASCADE, related_name="survey_invitations")
    application = models.ForeignKey(
        "pipeline.Application", null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_invitations"
    )
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The stage name when it was sent: results are filtered by it after the application has moved on.
    stage_name = models.CharField(max_length=60, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey("messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["candidate", "-sent_at"], name="survey_invite_candidate_sent")]

    def __str__(self) -> str:
        return f"{self.survey} for candidate {self.candidate_id}"


class SurveyResponse(models.Model):
    """One submitted survey. For an anonymous survey `invitation` and `candidate` stay empty."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    invitation = models.OneToOneField(
        SurveyInvitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="response"
    )
    candidate = models.ForeignKey(
        "candidates.Candidate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    stage_name = models.CharField(max_length=60, blank=True)
    # Anonymous responses keep only the day, so the time cannot be matched with an invitation's answered_at.
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["survey", "job", "stage_name"], name="survey_response_filters")]


class SurveyAnswer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="answers")
    score = models.SmallIntegerField(null=True, blank=True)
    choice = models.CharField(max_length=120, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="survey_answer_once_per_question")]
