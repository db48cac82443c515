# One image for the Rasa server, the action server and the officers' workspace;
# docker-compose.yml picks the command. Build after `make train` (the model is copied in):
#   docker build -t nagar-sahayak .
FROM python:3.10-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/app \
    TF_CPP_MIN_LOG_LEVEL=3 SQLALCHEMY_SILENCE_UBER_WARNING=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# Dependencies first: this layer is rebuilt only when the pins change. Only what runs:
# requirements-dev.txt (tests and tooling) stays out of the image.
COPY requirements.txt constraints.txt ./
RUN pip install "pip==24.0" && pip install -r requirements.txt -c constraints.txt

COPY . .
RUN test -f models/nagar-sahayak.tar.gz || (echo "run 'make train' before building" && exit 1) \
    && useradd --create-home --uid 1001 nagar && chown -R nagar /app
USER nagar

EXPOSE 5005 5055 8080
CMD ["python", "-m", "rasa_extensions", "run", "--model", "models/nagar-sahayak.tar.gz", "--endpoints", "deploy/endpoints.production.yml", \
     "--credentials", "deploy/credentials.production.yml", "--port", "5005"]
